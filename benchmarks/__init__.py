"""Side-by-side benchmarks of mlnotes against the references a user would otherwise pick.

Run ``python -m benchmarks --help``; ``benchmarks/README.md`` explains the columns and how
to add a suite. The package is organised as:

``benchmarks.harness``
    the generic machinery: :class:`~benchmarks.harness.Case`, the estimator-comparison
    suite :class:`~benchmarks.harness.EstimatorSuite`, the :class:`~benchmarks.harness.Suite`
    protocol every suite follows, single-thread limits and the timing loop.
``benchmarks.datasets``
    :class:`~benchmarks.datasets.Dataset`: generated or bundled scikit-learn data, split
    with a fixed seed; nothing is downloaded.
``benchmarks.report``
    Markdown tables, ratio bar charts and the environment header, from plain row dicts.
``benchmarks.suites``
    one module per suite (``linear``, ...), discovered automatically.
``benchmarks.cli``
    the command line (``python -m benchmarks``).

Importing this package is cheap: nothing heavy is imported until a suite runs.
"""
