"""Models of the conversations capability (built in a later issue)."""
