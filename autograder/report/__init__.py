"""The instructor's class report (``autograder report``)."""
