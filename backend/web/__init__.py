"""The staff web dashboard: server-rendered pages under `/` for the clinic's owner and
reception (today's list, requests to answer, KPI charts), behind one clinic password.

The composition root calls `pages.install(app)`.
"""
