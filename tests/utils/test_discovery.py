import pytest
from sklearn.base import BaseEstimator, is_classifier, is_regressor

from mlnotes.utils.discovery import all_agents, all_estimators


def test_all_estimators_sorted_unique_and_public():
    estimators = all_estimators()
    names = [name for name, _ in estimators]
    assert names == sorted(set(names))
    for name, cls in estimators:
        assert issubclass(cls, BaseEstimator)
        assert cls.__name__ == name and not name.startswith("_")
        assert cls.__module__.startswith("mlnotes.")


def test_all_estimators_finds_the_linear_models():
    names = {name for name, _ in all_estimators()}
    assert {"LinearRegression", "Ridge"} <= names


@pytest.mark.parametrize("kind, predicate", [("regressor", is_regressor),
                                             ("classifier", is_classifier)])
def test_type_filter(kind, predicate):
    filtered = all_estimators(type_filter=kind)
    assert all(predicate(cls()) for _, cls in filtered)
    others = [c for _, c in all_estimators() if predicate(c())]
    assert len(filtered) == len(others)


def test_type_filter_list_is_union():
    both = all_estimators(type_filter=["classifier", "regressor"])
    assert len(both) == len(all_estimators("classifier")) + len(all_estimators("regressor"))


def test_type_filter_rejects_unknown_kind():
    with pytest.raises(ValueError, match="type_filter"):
        all_estimators(type_filter="spam")


def test_all_agents_never_returns_estimators():
    agents = all_agents()
    assert agents == sorted(agents, key=lambda pair: pair[0])
    assert not any(issubclass(cls, BaseEstimator) for _, cls in agents)
