"""The chapter map of the notes, one dict per row (rendered by ``.. chapter-map::``).

Fields
------
part : "I", "II" or "III"
ch, topic : str
api : str
    What the chapter becomes, as written in the design's chapter map. Text between
    backticks is code; a dotted name there (relative to ``mlnotes``) becomes a link
    once it exists. A bare name after a dotted one is taken in the same module
    (``linear_model.SGDClassifier``, ``SGDRegressor``).
reference : str
    What it is compared with in ``benchmarks/`` and the parity tests ("—": a known
    answer instead of a library).
check : list of str, or callable
    The names whose existence makes the row's API "available" (all of them) or
    "partial" (some), relative to ``mlnotes``. An empty list means the names are not
    fixed yet: the row stays "planned" until somebody lists them here. A module listed
    here (``optim``, ``rl.bandits``) covers every name in its ``__all__``.
examples : list of str
    Gallery examples of the chapter: paths of ``examples/<part>/plot_*.py`` without
    the extension (set in ``EXAMPLES`` below). A row is "done" when its API is
    available and it has an example; "API done, example to come" when only the
    API is (the chapters of ``EXAMPLE_PENDING``: ``tests/test_docs.py`` fails on any
    other such row, and on a pending chapter that has an example, so the list can
    only shrink).

Every public name of mlnotes is either in some row's ``check`` or in
``INFRASTRUCTURE`` (shared tools that belong to no single chapter); the test fails
otherwise.
"""


def _any_estimator():
    # Chapter 1 is a property of every estimator: each one passes check_estimator
    # (clone, get_params, ...) in tests/test_common.py, so it works with
    # train_test_split, GridSearchCV and cross_val_score.
    from mlnotes.utils.discovery import all_estimators

    return bool(all_estimators())


def _row(part, ch, topic, api, reference, check):
    return {"part": part, "ch": ch, "topic": topic, "api": api,
            "reference": reference, "check": check, "examples": []}


CHAPTERS = [
    # ---------------------------------------------------------------- Part I
    _row("I", "1", "train / validate / test",
         "works with `train_test_split`, `GridSearchCV`, `cross_val_score` "
         "(every estimator passes `check_estimator`)",
         "scikit-learn", _any_estimator),
    _row("I", "2", "linear classifiers",
         "`linear_model.Perceptron`, `svm.LinearSVC` (hinge loss, primal), "
         "`neighbors.NearestCentroid`",
         "sklearn same names",
         ["linear_model.Perceptron", "svm.LinearSVC", "neighbors.NearestCentroid"]),
    _row("I", "3", "gradient descent",
         "`optim` (batch GD, SGD, momentum/Nesterov, Adam, backtracking line search), "
         "`linear_model.SGDClassifier`, `SGDRegressor`",
         "sklearn SGD*",
         ["optim", "linear_model.SGDClassifier", "linear_model.SGDRegressor"]),
    _row("I", "4", "support vector machines",
         "`svm.SVC` (soft margin, SMO, linear/poly/rbf/sigmoid kernels, "
         "`decision_function`, `probability=True`), `svm.SVR`",
         "sklearn SVC, SVR",
         ["svm.SVC", "svm.SVR"]),
    _row("I", "6", "decision theory, Bayes rule",
         "`discriminant_analysis.BayesDecisionClassifier` (any probabilistic model + "
         "loss matrix + priors + reject option, minimises expected risk)",
         "— (exact Bayes risk on known Gaussians)",
         ["discriminant_analysis.BayesDecisionClassifier"]),
    _row("I", "7", "GDA, maximum likelihood",
         "`discriminant_analysis.LinearDiscriminantAnalysis`, "
         "`QuadraticDiscriminantAnalysis`, `naive_bayes.GaussianNB`",
         "sklearn same names",
         ["discriminant_analysis.LinearDiscriminantAnalysis",
          "discriminant_analysis.QuadraticDiscriminantAnalysis",
          "naive_bayes.GaussianNB"]),
    _row("I", "8", "eigendecomposition",
         "`utils.linalg` (power iteration, symmetric eigensolver wrapper, Rayleigh "
         "quotient) used by PCA/spectral",
         "`numpy.linalg.eigh`",
         ["utils.linalg"]),
    _row("I", "9", "regression",
         "`linear_model.LinearRegression`, `preprocessing.PolynomialFeatures`",
         "sklearn same names",
         ["linear_model.LinearRegression", "preprocessing.PolynomialFeatures"]),
    _row("I", "10", "Newton's method, logistic regression",
         "`optim.newton`, `linear_model.LogisticRegression` (binary + multinomial; "
         "Newton/IRLS as `solver=\"newton-cholesky\"`, L-BFGS the default as in "
         "scikit-learn)",
         "sklearn LogisticRegression",
         ["optim.newton", "linear_model.LogisticRegression"]),
    _row("I", "11", "statistical justification",
         "`linear_model.BayesianRidge` (MAP/posterior, evidence maximisation)",
         "sklearn BayesianRidge",
         ["linear_model.BayesianRidge"]),
    _row("I", "12", "ridge, regularisation",
         "`linear_model.Ridge`, `Lasso`, `ElasticNet` (coordinate descent), "
         "`lasso_path`, `enet_path`",
         "sklearn same names",
         ["linear_model.Ridge", "linear_model.Lasso", "linear_model.ElasticNet",
          "linear_model.lasso_path", "linear_model.enet_path"]),
    _row("I", "13", "decision trees",
         "`tree.DecisionTreeClassifier`, `DecisionTreeRegressor`, "
         "`ensemble.RandomForestClassifier`, `RandomForestRegressor`, "
         "`BaggingClassifier`, `BaggingRegressor`; `tree.export_text`, `export_graphviz`, "
         "`plot_tree`",
         "sklearn same names",
         ["tree.DecisionTreeClassifier", "tree.DecisionTreeRegressor",
          "ensemble.RandomForestClassifier", "ensemble.RandomForestRegressor",
          "ensemble.BaggingClassifier", "ensemble.BaggingRegressor",
          "tree.export_text", "tree.export_graphviz", "tree.plot_tree"]),
    _row("I", "14", "kernel trick",
         "`kernel_ridge.KernelRidge`, `linear_model.KernelPerceptron`, "
         "`metrics.pairwise` kernels",
         "sklearn KernelRidge, pairwise kernels",
         ["kernel_ridge.KernelRidge", "linear_model.KernelPerceptron",
          "metrics.pairwise"]),
    _row("I", "15", "neural networks",
         "`neural_network.MLPClassifier`, `MLPRegressor` (torch)",
         "sklearn MLP*",
         ["neural_network.MLPClassifier", "neural_network.MLPRegressor"]),
    _row("I", "16", "tricks and heuristics",
         "MLP options: init schemes, dropout, batch norm, weight decay, momentum/Adam, "
         "schedules, early stopping",
         "sklearn MLP*",
         ["neural_network.MLPClassifier", "neural_network.MLPRegressor"]),
    _row("I", "17", "CNN",
         "`neural_network.CNNClassifier` (image shape parameter)",
         "sklearn MLPClassifier on `load_digits`",
         ["neural_network.CNNClassifier"]),
    _row("I", "18", "PCA",
         "`decomposition.PCA` (whiten, explained variance), `decomposition.KernelPCA`",
         "sklearn same names",
         ["decomposition.PCA", "decomposition.KernelPCA"]),
    _row("I", "19-20", "clustering",
         "`cluster.KMeans` (k-means++, `kmeans_plusplus`), `cluster.AgglomerativeClustering` "
         "(single/complete/average/ward), `cluster.SpectralClustering`, "
         "`mixture.GaussianMixture` (EM)",
         "sklearn same names",
         ["cluster.KMeans", "cluster.kmeans_plusplus", "cluster.AgglomerativeClustering",
          "cluster.SpectralClustering", "mixture.GaussianMixture"]),
    _row("I", "21", "high-dimensional geometry",
         "`random_projection.GaussianRandomProjection`, `SparseRandomProjection`, "
         "`johnson_lindenstrauss_min_dim`",
         "sklearn same names",
         ["random_projection.GaussianRandomProjection",
          "random_projection.SparseRandomProjection",
          "random_projection.johnson_lindenstrauss_min_dim"]),
    _row("I", "22", "learning theory",
         "`learning_theory` (Hoeffding, union-bound and VC sample sizes and "
         "generalisation bounds) checked against closed forms and simulation",
         "—",
         ["learning_theory"]),
    _row("I", "23", "AdaBoost",
         "`ensemble.AdaBoostClassifier` (SAMME), `AdaBoostRegressor`",
         "sklearn same names",
         ["ensemble.AdaBoostClassifier", "ensemble.AdaBoostRegressor"]),
    _row("I", "24", "k-nearest neighbours",
         "`neighbors.KNeighborsClassifier`, `KNeighborsRegressor` (brute and k-d "
         "tree), `neighbors.KDTree`",
         "sklearn same names",
         ["neighbors.KNeighborsClassifier", "neighbors.KNeighborsRegressor",
          "neighbors.KDTree"]),
    # --------------------------------------------------------------- Part II
    _row("II", "26", "imitation learning",
         "`rl.BC` (also `fit(obs, actions)`), `rl.DAgger` (expert: anything with "
         "`predict`, an SB3 model included), goal-conditioned BC",
         "imitation library BC / DAgger; expert return",
         ["rl.BC", "rl.DAgger"]),
    _row("II", "27, 30", "MDPs, value functions, value methods",
         "`rl.ValueIteration`, `PolicyIteration`, `QLearning`, `SARSA` (tabular), "
         "`FittedQIteration`",
         "exact solutions of small MDPs (FrozenLake, Taxi)",
         ["rl.ValueIteration", "rl.PolicyIteration", "rl.QLearning", "rl.SARSA",
          "rl.FittedQIteration"]),
    _row("II", "28", "policy gradients",
         "`rl.REINFORCE` (reward-to-go, mean/optimal baseline, off-policy importance "
         "sampling), `rl.NPG` (natural gradient, Fisher-vector products + conjugate "
         "gradient)",
         "— (compare learning curves with SB3 A2C)",
         ["rl.REINFORCE", "rl.NPG"]),
    _row("II", "29", "actor-critic",
         "`rl.A2C` (batch/online, parallel envs, GAE, shared or separate networks)",
         "SB3 A2C",
         ["rl.A2C"]),
    _row("II", "31", "deep Q-learning",
         "`rl.DQN` (replay, target network, double, dueling, n-step)",
         "SB3 DQN",
         ["rl.DQN"]),
    _row("II", "32", "advanced policy gradients",
         "`rl.TRPO`, `rl.PPO`",
         "sb3-contrib TRPO, SB3 PPO",
         ["rl.TRPO", "rl.PPO"]),
    _row("II", "33", "optimal control, planning",
         "`rl.LQR`, `iLQR`, `RandomShooting`, `CEM`, `MPPI`, `MCTS`",
         "exact LQR (`scipy.linalg.solve_discrete_are`); true-model control of Pendulum",
         ["rl.LQR", "rl.iLQR", "rl.RandomShooting", "rl.CEM", "rl.MPPI", "rl.MCTS"]),
    _row("II", "34-35", "model-based RL",
         "`rl.DynamicsEnsemble`, `PETS` (ensemble dynamics + trajectory-sampling MPC), "
         "`MBPO`, `DynaQ`",
         "SB3 SAC at equal env steps; mbrl-lib (own venv)",
         ["rl.DynamicsEnsemble", "rl.PETS", "rl.MBPO", "rl.DynaQ"]),
    _row("II", "36-37", "exploration",
         "`rl.bandits` (`rl.bandits.UCB1`, `ThompsonSampling`, `EpsilonGreedy`, "
         "`LinUCB`), count-based and RND bonus wrappers usable with any agent",
         "regret bounds; SB3 agents without bonus",
         ["rl.bandits", "rl.bandits.UCB1", "rl.bandits.ThompsonSampling",
          "rl.bandits.EpsilonGreedy", "rl.bandits.LinUCB", "rl.RND", "rl.CountBonus"]),
    _row("II", "38-39", "offline RL",
         "`rl.CQL`, `rl.IQL`, `rl.AWAC`, `rl.TD3BC`, `rl.DiscreteCQL` (`fit(dataset)`)",
         "d3rlpy-style API; return of the policy that made the data",
         ["rl.CQL", "rl.IQL", "rl.AWAC", "rl.TD3BC", "rl.DiscreteCQL"]),
    _row("II", "41-42", "variational inference, control as inference",
         "`rl.SAC` (maximum entropy, twin critics, automatic temperature), `rl.TD3`, "
         "`rl.DDPG`",
         "SB3 SAC, TD3, DDPG",
         ["rl.SAC", "rl.TD3", "rl.DDPG"]),
    _row("II", "43", "inverse RL",
         "`rl.MaxEntIRL` (tabular), `rl.GAIL`",
         "imitation library GAIL; expert return",
         ["rl.MaxEntIRL", "rl.GAIL"]),
    _row("II", "44", "sequence models",
         "`rl.DecisionTransformer`",
         "d3rlpy DecisionTransformer",
         ["rl.DecisionTransformer"]),
    # -------------------------------------------------------------- Part III
    _row("III", "48", "1-D distributions",
         "`density.Histogram`, `density.DiscretizedLogisticMixture`",
         "sklearn KernelDensity, GaussianMixture",
         ["density.Histogram", "density.DiscretizedLogisticMixture"]),
    _row("III", "48", "autoregressive models",
         "`density.MADE` (order/mask ensembles), `density.PixelCNN` (masked/gated "
         "convolutions), `density.TransformerAR` (causal attention, key-value cache "
         "for sampling), `density.RNNDensity`",
         "sklearn GaussianMixture / KernelDensity / BernoulliMixture baselines; "
         "published PixelCNN/MADE figures as context",
         ["density.MADE", "density.PixelCNN", "density.TransformerAR",
          "density.RNNDensity"]),
    _row("III", "49", "flows",
         "`density.RealNVP`, `density.Glow`, `density.MAF`, `density.NeuralSplineFlow`",
         "true entropy of generated 2-D densities (two moons 1.007 nats, checkerboard "
         "3.466, 8 gaussians 2.832); sklearn KDE/GMM",
         ["density.RealNVP", "density.Glow", "density.MAF", "density.NeuralSplineFlow"]),
    _row("III", "50", "latent variable models",
         "`density.VAE` (ELBO, importance-weighted bound)",
         "sklearn GaussianMixture, KDE",
         ["density.VAE"]),
    _row("III", "51", "GANs",
         "`density.GAN` (WGAN-GP), `sample` only",
         "sample quality metric (MMD to held-out data)",
         ["density.GAN"]),
    _row("III", "52", "diffusion",
         "`density.DDPM` (ELBO bound, sampling)",
         "same as flows",
         ["density.DDPM"]),
    _row("III", "57", "compression",
         "`compression.encode`, `decode`: arithmetic coding with any autoregressive "
         "model; code length within 1% of its NLL",
         "gzip, bz2, lzma on the same bytes",
         ["compression.encode", "compression.decode"]),
    _row("III", "59", "parallelization",
         "`parallel.fit_distributed` (torch DDP, gloo on CPU); joblib backends, "
         "`SubprocVecEnv`",
         "sequential results; scaling measured",
         ["parallel.fit_distributed"]),
]


#: Gallery examples per chapter row, keyed by (ch, topic) of the row.
EXAMPLES = {
    ("1", "train / validate / test"): ["intro_ml/plot_trees_ensembles_neighbors"],
    ("2", "linear classifiers"): ["intro_ml/plot_linear_classifiers"],
    ("3", "gradient descent"): ["intro_ml/plot_gradient_descent",
                                "intro_ml/plot_linear_classifiers"],
    ("4", "support vector machines"): ["intro_ml/plot_kernels_svm"],
    ("6", "decision theory, Bayes rule"): ["intro_ml/plot_bayes_decision"],
    ("7", "GDA, maximum likelihood"): ["intro_ml/plot_linear_classifiers"],
    ("8", "eigendecomposition"): ["intro_ml/plot_pca_random_projection"],
    ("9", "regression"): ["intro_ml/plot_regularisation_path"],
    ("10", "Newton's method, logistic regression"): ["intro_ml/plot_gradient_descent",
                                                      "intro_ml/plot_linear_classifiers"],
    ("11", "statistical justification"): ["intro_ml/plot_regularisation_path"],
    ("12", "ridge, regularisation"): ["intro_ml/plot_regularisation_path"],
    ("13", "decision trees"): ["intro_ml/plot_trees_ensembles_neighbors"],
    ("14", "kernel trick"): ["intro_ml/plot_kernels_svm"],
    ("15", "neural networks"): ["intro_ml/plot_neural_networks"],
    ("16", "tricks and heuristics"): ["intro_ml/plot_neural_networks"],
    ("17", "CNN"): ["intro_ml/plot_cnn_digits"],
    ("18", "PCA"): ["intro_ml/plot_pca_random_projection"],
    ("19-20", "clustering"): ["intro_ml/plot_clustering"],
    ("21", "high-dimensional geometry"): ["intro_ml/plot_pca_random_projection"],
    ("22", "learning theory"): ["intro_ml/plot_learning_theory"],
    ("23", "AdaBoost"): ["intro_ml/plot_trees_ensembles_neighbors"],
    ("24", "k-nearest neighbours"): ["intro_ml/plot_trees_ensembles_neighbors"],
    ("26", "imitation learning"): ["rl/plot_imitation"],
    ("27, 30", "MDPs, value functions, value methods"):
        ["rl/plot_tabular_dynamic_programming"],
    ("28", "policy gradients"): ["rl/plot_policy_gradients"],
    ("29", "actor-critic"): ["rl/plot_agents_vs_sb3"],
    ("31", "deep Q-learning"): ["rl/plot_dqn"],
    ("32", "advanced policy gradients"): ["rl/plot_agents_vs_sb3"],
    ("33", "optimal control, planning"): ["rl/plot_lqr_planning"],
    ("34-35", "model-based RL"): ["rl/plot_model_based"],
    ("36-37", "exploration"): ["rl/plot_bandits", "rl/plot_exploration_bonuses"],
    ("38-39", "offline RL"): ["rl/plot_offline_rl"],
    ("41-42", "variational inference, control as inference"): ["rl/plot_sac_temperature"],
    ("48", "1-D distributions"): ["density/plot_density_samples"],
    ("49", "flows"): ["density/plot_density_samples"],
    ("50", "latent variable models"): ["density/plot_density_samples"],
    ("51", "GANs"): ["density/plot_density_samples"],
    ("52", "diffusion"): ["density/plot_density_samples"],
    ("48", "autoregressive models"): ["density/plot_compression"],
    ("57", "compression"): ["density/plot_compression"],
    ("59", "parallelization"): ["rl/plot_parallel"],
}

#: Chapters whose API exists but whose gallery example is still to be written. The
#: test fails when an entry here gets an example (remove it then) and when a chapter
#: outside this list has its API but no example.
EXAMPLE_PENDING = set()

for _r in CHAPTERS:
    _r["examples"] = list(EXAMPLES.get((_r["ch"], _r["topic"]), []))

#: Public names that serve every chapter rather than one: module (relative to
#: ``mlnotes``) -> what it is. Each covers every name in that module's ``__all__``.
INFRASTRUCTURE = {
    "base": "base classes of the torch estimators and the density models",
    "datasets": "2-D densities with known entropy, for the density models' tests and "
                "benchmarks",
    "utils.discovery": "``all_estimators()``, ``all_agents()``",
    "utils.estimator_checks": "the checks every density model passes",
    "metrics": "kernels and distances (chapter 14's ``metrics.pairwise``)",
    "rl.common": "buffers, distributions, schedules and base classes shared by the "
                 "agents (Stable-Baselines3's layout)",
    "rl.common.off_policy_algorithm": "the off-policy base class",
    "rl.common.returns": "returns, reward-to-go and GAE (chapters 28-29)",
    "rl.offline": "datasets of transitions for the offline agents (chapters 38-39)",
}

#: Chapters of the notes (1-61) with no row above: no deliverable is defined for them
#: (a review chapter, a chapter of examples, or one the design leaves out).
NOT_MAPPED = sorted(
    set(range(1, 62))
    - {int(n) for r in CHAPTERS
       for part in r["ch"].replace(",", " ").split()
       for n in (range(int(part.split("-")[0]), int(part.split("-")[-1]) + 1)
                 if "-" in part else [int(part)])}
)


def row_key(row):
    """The key of ``row`` in ``EXAMPLE_PENDING``: its chapter, and its topic if the
    chapter has several rows."""
    same = [r for r in CHAPTERS if r["ch"] == row["ch"]]
    return row["ch"] if len(same) == 1 else f"{row['ch']}:{row['topic']}"
