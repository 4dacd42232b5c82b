"""The main job's last step: grade every solution and released notebook, print a table."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from autograder.grade import grade_notebook
from autograder.scoring import available_assignments


def course_notebooks(course: Path) -> list[tuple[str, str, Path]]:
    """``(assignment, kind, path)`` for each solution and released notebook of the course."""
    rows = []
    for assignment in available_assignments():
        for kind, folder in (("solution", "solutions"), ("released", "assignments")):
            path = course / folder / assignment / f"{assignment}.ipynb"
            if path.exists():
                rows.append((assignment, kind, path))
    return rows


def main(*, course: str) -> int:
    """Grade the course's notebooks; 1 if a solution misses marks or a stub gets any."""
    console = Console()
    table = Table(title="Hidden checks on the course's own notebooks")
    for column in ("assignment", "notebook", "score / max", "time", "sandbox"):
        table.add_column(column)
    ok = True
    for assignment, kind, path in course_notebooks(Path(course)):
        with console.status(f"grading {path} ..."):
            doc = grade_notebook(path, assignment=assignment)
        expected = doc["max_score"] if kind == "solution" else 0
        ok &= doc["score"] == expected
        style = "green" if doc["score"] == expected else "red"
        table.add_row(
            assignment,
            str(path),
            f"[{style}]{doc['score']:g} / {doc['max_score']:g}[/{style}]",
            f"{doc['execution_time']:.1f} s",
            doc["extra_data"].get("sandbox", "-"),
        )
    console.print(table)
    if not ok:
        console.print("[red]A solution lost points or a released notebook scored: see above.[/red]")
    return 0 if ok else 1
