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
# nbgrader's generation pipelines, plus the kit's two steps (autograder/generate.py):
# StableOutputs drops execution timestamps and TensorFlow's logs from executed solutions,
# StampSource records what each notebook was made from, so `make notebooks` regenerates
# only what changed. Changing either list? Change autograder.generate.RECIPE too.
NB = "nbgrader.preprocessors."
c.GenerateAssignment.preprocessors = [
    *(NB + name for name in ("IncludeHeaderFooter", "InstantiateTests", "LockCells",
      "ClearSolutions", "ClearOutput", "CheckCellMetadata", "ComputeChecksums", "SaveCells",
      "ClearHiddenTests", "ClearMarkScheme", "ComputeChecksums", "CheckCellMetadata")),
    "autograder.generate.StampSource",
]  # fmt: skip
# A solution's cells get 10 minutes each (nbgrader's default is 30 s; a busy 2-core machine
# can spend longer than that importing TensorFlow).
c.Execute.timeout = 600
c.GenerateSolution.preprocessors = [
    *(NB + name for name in ("IncludeHeaderFooter", "LockCells", "ClearOutput",
      "ClearMarkScheme", "Execute")),
    "autograder.generate.StableOutputs",
    "autograder.generate.StampSource",
]  # fmt: skip

# Grading: `nbgrader autograde` and formgrader's Autograde button grade with the kit's
# sandboxed grader, exactly as `autograder grade submitted/` does, and never run the
# student's notebook in a kernel; `nbgrader generate_feedback` shows the kit's messages
# (autograder/nbgrader_grading.py). Each refuses, recording nothing, where it cannot.
KIT = "autograder.nbgrader_grading."
c.Autograde.sanitize_preprocessors = [
    KIT + "RequireKitGrading",  # refuses any autograde pipeline that does not grade with the kit
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    KIT + "GradeWithKit",  # in place of nbgrader's Execute
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.GenerateFeedback.preprocessors = [
    KIT + "ShowKitFeedback",
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# The sandbox's limits for `nbgrader autograde` (defaults: those of `autograder grade`), e.g.
# c.GradeWithKit.limits = {"memory_bytes": 2 * 1024**3}
# A results.json handed in beside a notebook is never copied next to the kit's.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "results.json",
]
