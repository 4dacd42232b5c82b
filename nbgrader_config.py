"""nbgrader configuration: this repository is the course directory."""

import os

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# A course id is required by databases that enforce foreign keys (PostgreSQL).
c.CourseDirectory.course_id = "deep-learning"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.solution_directory = "solutions"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# The gradebook: sqlite by default; any SQLAlchemy URL works, e.g. PostgreSQL:
# c.CourseDirectory.db_url = "postgresql://user@host:5432/gradebook"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
# Generated notebooks are committed: keep them free of outputs and stable.
c.ClearOutput.enabled = True
c.GenerateAssignment.create_assignment = True
