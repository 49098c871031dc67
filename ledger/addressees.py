"""Whom an invoice's documents and claim process are addressed to (seeds 001 section 2.2).

Its other payer when it names one; else its customer, unless the customer is a private person under
MINOR_AGE on the day (the birth date from the national id), whose go to their guardian. A minor with
neither has nobody to address: the claim is held (claims/services/addressees.py), and the invoice itself
goes to the minor (the seeds forbid chasing a minor, not telling them what they bought).
"""

from datetime import date

MINOR_AGE = 16


def minor_born_after(day: date) -> date:
    """A person born after this date is under MINOR_AGE on `day` (born on 29 February: of age on 1 March)."""
    try:
        return day.replace(year=day.year - MINOR_AGE)
    except ValueError:  # 29 February, MINOR_AGE years back is no leap year
        return date(day.year - MINOR_AGE, 2, 28)


# The customer addressed: NULL for a minor with no guardian and no other payer. `i` is the invoice, `cu`
# its customer; the query passes %(minor_born_after)s, the day's limit.
ADDRESSEE_SQL = (
    "COALESCE(i.payer_id, CASE WHEN cu.birth_date > %(minor_born_after)s THEN cu.guardian_id ELSE cu.id END)"
)
