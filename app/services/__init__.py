"""Service layer: the business rules and the transactions, between the faces and the models.

The faces (JSON routers in ``app.api.routes``, console pages, the CLI, the worker) are thin: they
parse input with the shapes of ``app.schemas``, call a service, and render what it returns.
Services import models, ``app.domain`` and ``app.schemas``; never ``app.api``.

The transaction rule (one rule, everywhere):

* A unit of work is owned by whoever opened the session, never by a service. Services
  ``flush()`` (to get ids, trip constraints and bump versions) and never ``commit()``.
* An HTTP request is one unit of work: it commits once the handler has returned (on the API
  routers in the handler's own thread hop, ``app.api.unit_of_work``; elsewhere in
  ``app.api.deps.get_session``) and rolls back when it raised; handlers do not commit either.
* The CLI, the run executors, dispatchers and recovery open their own unit of work with
  ``app.db.session_scope`` (commit at the end of the block, roll back on error), one block per
  step whose result must survive the next step failing (e.g. a heartbeat, one delivery).
* Inside a unit of work, a step that may fail and be retried or undone alone uses a savepoint
  (``session.begin_nested()``): the idempotent create, the one-active-run check.

So an action and its side effects (change-feed events, duty records, demand status, outbox
rows) always land together or not at all.
"""
