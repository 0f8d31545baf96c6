"""Optimization runs: DB -> solver problem, background execution, publishing.

``service`` (create/read/list/cancel), ``execute`` (one run end to end, recovery),
``executor`` (in-process thread or procrastinate job), ``publish``, ``problem_builder``.
"""
