"""Distribution: queue documents, choose the channel, render, archive, send, and handle returns.

Modules: queueing, sending (`documents_distribute`), on_request (the debt summary), print_batches,
returns; common (the actor, the archive).
"""
