"""The only sequencers: the one place that runs the stages in order.

- ``runtime``: build the parts from one configuration, swap them on reload, prune.
- ``poll``: one feed: fetch -> [worker: parse, story signatures] -> match -> store.
- ``deliver``: one lane per destination: store.claim -> outbox plan -> notify -> outcome.
- ``replay``: stored articles -> match (read-only).
- ``once``: ``run --once``: poll every feed, deliver, prune.
- ``workers``: the CPU-budgeted process pool that runs the poll's jobs; ``jobs`` is its
  worker side (what a worker process imports: no asyncio, no configuration layer), and
  ``analysis`` the one job over a poll's new articles (matching and story signatures).

``poll``, ``deliver`` and ``replay`` do not import each other; ``once`` and the daemon
(in ``app``) combine them.

Import from the submodules (``newswatch.pipeline.poll`` ...): this package's ``__init__``
stays empty so that a worker process, which imports ``pipeline.workers`` to run a job,
does not import the whole pipeline with it.
"""
