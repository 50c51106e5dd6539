"""pbc's web application: the pages, worklists and API that commissioners, clusters and practices use.

A Django project kept inside the package (`pbc.web.settings`), with the NHS design system through Jinja2. The web
layer reads the figures the analytical core has made (marts, budget runs, contracts, quality findings) and keeps
only what people do: users and their roles, and the audit log. Every query is scoped to the user's organisation in
one place (`pbc.web.scope`).
"""
