"""Demo data for 朝阳区: a realistic, seeded week of community needs and the members to meet them.

``build_demo`` fills an open session (any database the ORM supports); ``load_demo`` builds a
fresh, migrated database from a URL and fills it. Both are deterministic for a seed, except
the admin API key, which is a real secret.
"""

from app.demo.generate import build_demo
from app.demo.load import load_demo
from app.demo.summary import DemoSummary

__all__ = ["DemoSummary", "build_demo", "load_demo"]
