"""The claim process: installing a ledger's steps and escalating its claims, one business day at a time.

Modules: process (figures, steps, settings), scheduling (when a step is due), escalation
(`claims_escalate`), decisions (the day's decisions in memory), writing (set-based writes), handover
(the foreign collection partner's file), common.
"""
