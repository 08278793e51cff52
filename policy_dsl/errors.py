"""The one error root of the project: every error a user can see derives from `PolicyError`."""


class PolicyError(Exception):
    """Base of every error drgpolicy reports to a user (policy text, data, run)."""
