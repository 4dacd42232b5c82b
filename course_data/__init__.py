"""Data the course's notebooks read that no installed package ships.

Everything here is public to students: the sandbox that runs a notebook sees this
package, so it holds no held-out data and no answers. The grader's own held-out
images are drawn by the grader, per run, from :mod:`course_data.aircraft`'s
generator and never written here.

Example:
    >>> from course_data import aircraft
    >>> aircraft.CLASS_NAMES
    ('crack', 'dent')
"""
