"""Text, Graphviz and matplotlib views of a fitted tree, through scikit-learn's
exporters (chapter 13 of the notes)."""

from sklearn import tree as _sk_tree
from sklearn.base import is_classifier

from ._classes import BaseDecisionTree

__all__ = ["export_graphviz", "export_text", "plot_tree"]

_SK_TREES = (_sk_tree.DecisionTreeClassifier, _sk_tree.DecisionTreeRegressor)


def _as_sklearn_tree(decision_tree):
    """Our fitted tree seen as scikit-learn's class of the same name.

    scikit-learn's exporters accept only instances of its own tree classes; ours
    has the same parameters, fitted attributes and ``tree_`` arrays, so an instance
    of scikit-learn's class holding the same state is exported identically. Any
    other object is passed on for scikit-learn to validate.
    """
    if not isinstance(decision_tree, BaseDecisionTree) or isinstance(decision_tree,
                                                                      _SK_TREES):
        return decision_tree
    cls = (_sk_tree.DecisionTreeClassifier if is_classifier(decision_tree)
           else _sk_tree.DecisionTreeRegressor)
    view = cls.__new__(cls)
    view.__dict__.update(vars(decision_tree))
    return view


def export_text(decision_tree, *, feature_names=None, class_names=None, max_depth=10,
                spacing=3, decimals=2, show_weights=False):
    """Build a text report of the rules of a decision tree.

    Parameters
    ----------
    decision_tree : DecisionTreeClassifier or DecisionTreeRegressor
        The fitted tree (mlnotes' or scikit-learn's).
    feature_names : array-like of str, default=None
        Names of the features; ``feature_names_in_`` or ``feature_{i}`` if None.
    class_names : array-like of str or "auto", default=None
        Names of the classes in ascending order (classification only); the
        ``classes_`` if None.
    max_depth : int, default=10
        Depth below which the subtrees are summarised as ``truncated branch``.
    spacing : int, default=3
        Width of the indentation of each level.
    decimals : int, default=2
        Number of decimals of the thresholds and values.
    show_weights : bool, default=False
        Print the (weighted) number of samples of each class at the leaves.

    Returns
    -------
    report : str
        One line per node: the condition ``feature <= threshold`` (or ``>``) of
        each branch and the class or value of each leaf.

    See Also
    --------
    export_graphviz : The tree in the DOT language.
    plot_tree : The tree drawn with matplotlib.

    Notes
    -----
    The report is scikit-learn's :func:`sklearn.tree.export_text` of the same
    tree (chapter 13 of the notes): a path from the root to a leaf reads as the
    conjunction of the conditions :math:`x_j \\le \\theta` or :math:`x_j > \\theta`
    along it, the rule of the leaf's region.

    Examples
    --------
    >>> from mlnotes.tree import DecisionTreeClassifier, export_text
    >>> X = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]]
    >>> clf = DecisionTreeClassifier(random_state=0).fit(X, [0, 0, 1, 1])
    >>> print(export_text(clf, feature_names=["a", "b"]))
    |--- a <= 1.50
    |   |--- class: 0
    |--- a >  1.50
    |   |--- class: 1
    <BLANKLINE>
    """
    return _sk_tree.export_text(
        _as_sklearn_tree(decision_tree), feature_names=feature_names,
        class_names=class_names, max_depth=max_depth, spacing=spacing,
        decimals=decimals, show_weights=show_weights)


def export_graphviz(decision_tree, out_file=None, *, max_depth=None, feature_names=None,
                    class_names=None, label="all", filled=False, leaves_parallel=False,
                    impurity=True, node_ids=False, proportion=False, rotate=False,
                    rounded=False, special_characters=False, precision=3,
                    fontname="helvetica"):
    """Export a decision tree in the DOT format of Graphviz.

    Parameters
    ----------
    decision_tree : DecisionTreeClassifier or DecisionTreeRegressor
        The fitted tree (mlnotes' or scikit-learn's).
    out_file : str or file object, default=None
        Where to write the DOT source; None returns it as a string.
    max_depth : int, default=None
        Maximum depth drawn; None for the whole tree.
    feature_names : array-like of str, default=None
        Names of the features.
    class_names : array-like of str or True, default=None
        Names of the classes in ascending order; True for symbolic names.
    label : {"all", "root", "none"}, default="all"
        Which nodes show the labels of their fields (impurity, samples ...).
    filled : bool, default=False
        Colour the nodes by majority class, extremity of the value, or purity.
    leaves_parallel : bool, default=False
        Draw all the leaves at the bottom.
    impurity : bool, default=True
        Show the impurity of each node.
    node_ids : bool, default=False
        Show the id of each node.
    proportion : bool, default=False
        Show proportions instead of counts for ``value`` and ``samples``.
    rotate : bool, default=False
        Orient the tree left to right instead of top down.
    rounded : bool, default=False
        Rounded node boxes, Helvetica font.
    special_characters : bool, default=False
        Use PostScript-compatible special characters.
    precision : int, default=3
        Number of digits of the floating-point values.
    fontname : str, default="helvetica"
        Font of the text.

    Returns
    -------
    dot_data : str or None
        The DOT source when ``out_file`` is None, otherwise None.

    See Also
    --------
    export_text : The rules of the tree as text.
    plot_tree : The tree drawn with matplotlib.

    Notes
    -----
    scikit-learn's :func:`sklearn.tree.export_graphviz` of the same tree
    (chapter 13 of the notes): each inner node shows its test
    :math:`x_j \\le \\theta`, and every node its impurity, number of samples and
    value.

    Examples
    --------
    >>> from mlnotes.tree import DecisionTreeRegressor, export_graphviz
    >>> reg = DecisionTreeRegressor(max_depth=1).fit([[0.0], [1.0], [2.0]], [0, 0, 3])
    >>> print(export_graphviz(reg).splitlines()[3])
    0 [label="x[0] <= 1.5\\nsquared_error = 2.0\\nsamples = 3\\nvalue = 1.0"] ;
    """
    return _sk_tree.export_graphviz(
        _as_sklearn_tree(decision_tree), out_file=out_file, max_depth=max_depth,
        feature_names=feature_names, class_names=class_names, label=label,
        filled=filled, leaves_parallel=leaves_parallel, impurity=impurity,
        node_ids=node_ids, proportion=proportion, rotate=rotate, rounded=rounded,
        special_characters=special_characters, precision=precision, fontname=fontname)


def plot_tree(decision_tree, *, max_depth=None, feature_names=None, class_names=None,
              label="all", filled=False, impurity=True, node_ids=False, proportion=False,
              rounded=False, precision=3, ax=None, fontsize=None):
    """Plot a decision tree with matplotlib.

    Parameters
    ----------
    decision_tree : DecisionTreeClassifier or DecisionTreeRegressor
        The fitted tree (mlnotes' or scikit-learn's).
    max_depth : int, default=None
        Maximum depth drawn; None for the whole tree.
    feature_names : array-like of str, default=None
        Names of the features.
    class_names : array-like of str or True, default=None
        Names of the classes in ascending order; True for symbolic names.
    label : {"all", "root", "none"}, default="all"
        Which nodes show the labels of their fields.
    filled : bool, default=False
        Colour the nodes by majority class, extremity of the value, or purity.
    impurity : bool, default=True
        Show the impurity of each node.
    node_ids : bool, default=False
        Show the id of each node.
    proportion : bool, default=False
        Show proportions instead of counts.
    rounded : bool, default=False
        Rounded node boxes.
    precision : int, default=3
        Number of digits of the floating-point values.
    ax : matplotlib Axes, default=None
        Axes to draw on; the current axes if None.
    fontsize : int, default=None
        Font size of the text; fitted to the figure if None.

    Returns
    -------
    annotations : list of matplotlib Annotation
        The text boxes drawn: one per node, and the "True"/"False" labels of
        the root's branches.

    See Also
    --------
    export_text : The rules of the tree as text.
    export_graphviz : The tree in the DOT language.

    Notes
    -----
    scikit-learn's :func:`sklearn.tree.plot_tree` of the same tree (chapter 13
    of the notes), laid out by the Reingold-Tilford algorithm.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from mlnotes.tree import DecisionTreeClassifier, plot_tree
    >>> clf = DecisionTreeClassifier().fit([[0.0], [1.0], [2.0]], [0, 1, 1])
    >>> len(plot_tree(clf))  # three nodes and the True/False labels of the root
    5
    """
    return _sk_tree.plot_tree(
        _as_sklearn_tree(decision_tree), max_depth=max_depth,
        feature_names=feature_names, class_names=class_names, label=label,
        filled=filled, impurity=impurity, node_ids=node_ids, proportion=proportion,
        rounded=rounded, precision=precision, ax=ax, fontsize=fontsize)
