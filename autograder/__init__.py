"""A tamper-proof grader for the deep-learning course notebooks."""

__version__ = "0.1.0"
