"""The scikit-learn side: item examples, features, estimators, model cards."""
