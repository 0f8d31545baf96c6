"""Presentation of reports: matplotlib charts (SVG for pages, PNG for export) and Jinja2 pages."""
