"""Reports > Dashboard: the chosen ledger's statistics and trends over a period of months (issue 14).

The figures come from accounting.dashboard (five set-based queries); this module only parses the period
and draws them. Charts are server-side SVG from pygal, inline in the page: no JavaScript (pygal's own
script links are switched off), readable by a screen reader (role="img" with a <title> and <desc>), and
each chart has its figures as a table below it.
"""

import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

import pygal
from django import forms
from django.utils import formats
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from lxml import etree

from accounting.dashboard import (
    MAX_MONTHS,
    STAGES,
    Dashboard,
    dashboard_figures,
    dashboard_period,
    percent_of,
)

from ..access import context_ledgers, url_ledger
from ..labels import label
from ..templatetags.ui import amount as amount_text
from ..templatetags.ui import day as day_text
from .common import page

DEFAULT_MONTHS = 12
SVG_NS = "http://www.w3.org/2000/svg"
STAGE_LABELS = {
    "by_due_date": gettext_lazy("By the due date"),
    "late": gettext_lazy("Late, before a reminder"),
    "after_reminder": gettext_lazy("After a reminder"),
    "after_collection_notice": gettext_lazy("After the collection notice"),
    "in_collection": gettext_lazy("In collection"),
}
# The 360 palette (app.css): brand blue, accent green, warn amber, bad red, then quieter tones.
COLORS = ("#1f4e79", "#2f7d5b", "#a15c00", "#b3261e", "#6b4c9a", "#4f8fbf", "#7a8794")
STYLE = pygal.style.Style(
    background="transparent",
    plot_background="#ffffff",
    foreground="#1d2733",
    foreground_strong="#1d2733",
    foreground_subtle="#d8dee6",
    opacity=".85",
    opacity_hover="1",
    colors=COLORS,
    font_family='system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif',
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    value_font_size=11,
)


class PeriodForm(forms.Form):
    months = forms.IntegerField(
        label=gettext_lazy("Months"), min_value=1, max_value=MAX_MONTHS, required=False,
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_MONTHS, "placeholder": DEFAULT_MONTHS}),
    )  # fmt: skip
    end = forms.CharField(
        label=gettext_lazy("Last month"), required=False, max_length=7,
        help_text=gettext_lazy("YYYY-MM; empty: this month"), widget=forms.TextInput(attrs={"type": "month"}),
    )  # fmt: skip

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_end(self) -> date | None:
        text = (self.cleaned_data.get("end") or "").strip()
        if not text:
            return None
        match = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
            raise forms.ValidationError(_("Give the month as YYYY-MM, for example 2026-04."))
        month = date(int(match[1]), int(match[2]), 1)
        if month > self.today.replace(day=1):
            raise forms.ValidationError(_("The last month cannot be after this month."))
        return month


def dashboard(request):
    ctx = context_ledgers(request)
    # ?ledger=<CompanyNo> picks another of the client's ledgers (another client's: 404).
    ledger = url_ledger(request, request.GET["ledger"]) if request.GET.get("ledger") else ctx.ledger
    if ledger is None:
        return page(request, "portal360/dashboard.html", {"ledger": None}, section="reports")
    form = PeriodForm(request.GET, today=ledger.today())
    context = {"ledger": ledger, "form": form}
    if form.is_valid():
        period = dashboard_period(
            ledger=ledger,
            months=form.cleaned_data["months"] or DEFAULT_MONTHS,
            end_month=form.cleaned_data["end"],
        )
        figures = dashboard_figures(ledger=ledger, period=period)
        nonce = str(request.csp_nonce)  # pygal's <style> in each SVG: allowed by this response's nonce
        context |= {"figures": figures,
                    "charts": [replace(c, svg=_with_nonce(c.svg, nonce)) for c in charts(figures, ledger)]}  # fmt: skip
    return page(request, "portal360/dashboard.html", context, section="reports")


# --- Charts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    desc: str
    svg: SafeString
    head: list[str]  # the table's column headings (the first: the month)
    rows: list[tuple[str, list[str]]]  # (month label, formatted cells)
    # The series' names by colour number, shown as an HTML legend under the chart: pygal's own legend at
    # the bottom falls outside its image with 3 or 5 columns (Kozea/pygal#511), so it is never drawn.
    legend: list[tuple[int, str]] = field(default_factory=list)


def month_label(day: date) -> str:
    return formats.date_format(day, "M Y")


def _number(value: Decimal | int | None) -> float | None:
    # pygal draws with floats; the tables beside the charts show the exact Decimal figures.
    return None if value is None else float(value)


def _percent(value: Decimal | None) -> str:
    return "–" if value is None else f"{formats.number_format(value, 1, use_l10n=True)} %"


def _svg(chart: pygal.graph.graph.Graph, key: str, title: str, desc: str) -> SafeString:
    """pygal's SVG tree, made an accessible image without script: pygal always writes a small config
    <script> (for its optional tooltips) even with js=[]; it is dropped so the page runs no script at
    all. The image is role="img", labelled by a <title> and a <desc> (lxml escapes the texts)."""
    root = chart.render_tree()
    for node in [n for n in root.iter() if isinstance(n.tag, str) and n.tag.rsplit("}", 1)[-1] == "script"]:
        node.getparent().remove(node)
    # Its tooltip (shown by that script only) is the one element with a style attribute, which the
    # Content-Security-Policy would refuse: it goes too.
    for node in [n for n in root.iter() if isinstance(n.tag, str) and n.get("class") == "tooltip"]:
        node.getparent().remove(node)
    for node in root.iter():
        if isinstance(node.tag, str) and "style" in node.attrib:
            del node.attrib["style"]
    # pygal numbers its legend entries the same in every chart (id="activate-serie-0"): the ids (and
    # anything pointing at them) get the chart's key, so the page holds each id once.
    for node in root.iter():
        if isinstance(node.tag, str) and (value := node.get("id")) and not value.startswith("chart-"):
            node.set("id", f"{key}-{value}")
    root.set("role", "img")
    root.set("aria-labelledby", f"{key}-title {key}-desc")
    for tag, text in (("desc", desc), ("title", title)):
        node = etree.Element(f"{{{SVG_NS}}}{tag}", id=f"{key}-{tag}")
        node.text = text
        root.insert(0, node)
    return mark_safe(etree.tostring(root, encoding="unicode"))  # noqa: S308 - serialised by lxml


def _with_nonce(svg: str, nonce: str) -> SafeString:
    """The chart's <style> elements carry the response's CSP nonce (settings.CONTENT_SECURITY_POLICY)."""
    return mark_safe(str(svg).replace("<style", f'<style nonce="{nonce}"'))  # noqa: S308 - our own SVG


def _chart(kind, labels: list[str], *, percent: bool = False, **config):
    chart = kind(
        style=STYLE, js=[], width=640, height=360, explicit_size=False, legend_at_bottom=True,
        legend_at_bottom_columns=3, truncate_legend=-1, x_labels=labels, show_minor_x_labels=True,
        truncate_label=-1, x_label_rotation=0 if len(labels) <= 6 else 40, margin=8, spacing=8, print_values=False,
        include_x_axis=True, dots_size=3, show_y_guides=True, **config,
    )  # fmt: skip
    chart.value_formatter = (lambda v: f"{v:.0f} %") if percent else _tick
    if percent:
        chart.range = (0, 100)
    return chart


def _tick(value: float) -> str:
    """An axis label: whole numbers grouped by thin spaces, small steps with one decimal."""
    text = f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    return text.replace(",", "\u202f")


def charts(figures: Dashboard, ledger) -> list[Chart]:
    months = [month_label(m) for m in figures.period.months]
    money = lambda value: amount_text(value, ledger)  # noqa: E731
    currency = ledger.currency
    result = []

    chart = _chart(pygal.Line, months, fill=False)
    chart.add(_("Open"), [_number(p.open) for p in figures.balances])
    chart.add(_("Overdue"), [_number(p.overdue) for p in figures.balances])
    last = figures.balances[-1]
    result.append(
        _make(
            chart,
            key="balances",
            title=_("Open and overdue amount (%(currency)s), at each month end") % {"currency": currency},
            desc=_("On %(day)s: %(open)s open, %(overdue)s of it overdue.")
            % {
                "day": day_text(last.day, ledger),
                "open": money(last.open),
                "overdue": money(last.overdue),
            },  # fmt: skip
            head=[_("Month end"), _("Open"), _("Overdue"), _("Overdue share")],
            rows=[
                (
                    formats.date_format(p.day, "SHORT_DATE_FORMAT"),
                    [money(p.open), money(p.overdue), _percent(percent_of(p.overdue, p.open))],
                )
                for p in figures.balances
            ],
        )  # fmt: skip
    )

    chart = _chart(pygal.Bar, months, show_legend=False)
    chart.add(_("Invoices"), [m.count for m in figures.created])
    result.append(
        _make(
            chart,
            key="created",
            title=_("Invoices created per month"),
            desc=ngettext(
                "%(count)s invoice for %(amount)s %(currency)s in the period.",
                "%(count)s invoices for %(amount)s %(currency)s in the period.",
                sum(m.count for m in figures.created),
            )
            % {
                "count": sum(m.count for m in figures.created),
                "amount": money(figures.invoiced_total),
                "currency": currency,
            },  # fmt: skip
            head=[_("Month"), _("Invoices"), _("Capital")],
            rows=[
                (month, [str(m.count), money(m.amount)])
                for month, m in zip(months, figures.created, strict=True)
            ],
        )
    )

    chart = _chart(pygal.Bar, months, show_legend=False)
    chart.add(_("Payments"), [_number(m.amount) for m in figures.payments])
    result.append(
        _make(
            chart,
            key="payments",
            title=_("Payments received per month (%(currency)s)") % {"currency": currency},
            desc=ngettext(
                "%(count)s payment for %(amount)s in the period.",
                "%(count)s payments for %(amount)s in the period.",
                sum(m.count for m in figures.payments),
            )
            % {
                "count": sum(m.count for m in figures.payments),
                "amount": money(sum((m.amount for m in figures.payments), Decimal(0))),
            },  # fmt: skip
            head=[_("Month"), _("Payments"), _("Amount")],
            rows=[
                (month, [str(m.count), money(m.amount)])
                for month, m in zip(months, figures.payments, strict=True)
            ],
        )
    )

    chart = _chart(pygal.StackedBar, months, percent=True)
    for stage in STAGES:
        chart.add(str(STAGE_LABELS[stage]), [_number(m.shares[stage]) for m in figures.paid])
    totals = figures.paid_total
    paid_count = sum(totals.values())
    result.append(
        _make(
            chart,
            key="paid",
            title=_("Invoices paid, by when they were paid (share of the month's paid invoices)"),
            desc=ngettext(
                "%(count)s invoice paid in the period; %(share)s by the due date.",
                "%(count)s invoices paid in the period; %(share)s by the due date.",
                paid_count,
            )
            % {"count": paid_count, "share": _percent(percent_of(totals["by_due_date"], paid_count))},
            head=[_("Month"), *[str(STAGE_LABELS[s]) for s in STAGES], _("Paid invoices")],
            rows=[
                (month, [*(f"{_percent(m.shares[s])} ({m.counts[s]})" for s in STAGES), str(m.total)])
                for month, m in zip(months, figures.paid, strict=True)
            ],
        )
    )

    chart = _chart(pygal.Line, months, show_legend=False)
    chart.add(_("Days"), [_number(p.dso) for p in figures.dso])
    result.append(
        _make(
            chart,
            key="dso",
            title=_("Days sales outstanding"),
            desc=_(
                "Open capital at the month end divided by the capital invoiced in the month, times the "
                "month's days."
            ),  # fmt: skip
            head=[_("Month"), _("Days"), _("Open capital"), _("Invoiced in the month")],
            rows=[
                (
                    month,
                    [
                        "–" if p.dso is None else formats.number_format(p.dso, 1, use_l10n=True),
                        money(p.open_capital),
                        money(p.invoiced),
                    ],
                )
                for month, p in zip(months, figures.dso, strict=True)
            ],  # fmt: skip
        )
    )

    codes = figures.channel_codes
    chart = _chart(pygal.StackedBar, months, percent=True)
    for code in codes:
        chart.add(str(label(code, "channel")), [_number(m.shares[code]) for m in figures.channels])
    result.append(
        _make(
            chart,
            key="channels",
            title=_("Distribution channels (share of the documents sent)"),
            desc=ngettext(
                "%(count)s document sent in the period.",
                "%(count)s documents sent in the period.",
                sum(m.total for m in figures.channels),
            )
            % {"count": sum(m.total for m in figures.channels)},
            head=[_("Month"), *[str(label(code, "channel")) for code in codes], _("Documents")],
            rows=[
                (month, [*(f"{_percent(m.shares[c])} ({m.counts[c]})" for c in codes), str(m.total)])
                for month, m in zip(months, figures.channels, strict=True)
            ],
        )
    )

    chart = _chart(pygal.Line, months, show_legend=False)
    chart.add(_("Returned mail"), [_number(m.returned_rate) for m in figures.channels])
    result.append(
        _make(
            chart,
            key="returned",
            title=_("Returned mail rate (%)"),
            desc=_(
                "Paper letters returned in the month per paper letter sent in it: %(count)s returned in the "
                "period."
            )
            % {"count": sum(m.returned for m in figures.channels)},  # fmt: skip
            head=[_("Month"), _("Rate"), _("Returned"), _("Paper letters sent")],
            rows=[
                (month, [_percent(m.returned_rate), str(m.returned), str(m.paper)])
                for month, m in zip(months, figures.channels, strict=True)
            ],
        )
    )
    return result


def _make(chart, *, key: str, title: str, desc: str, head: list[str], rows: list) -> Chart:
    legend = [(index, config["title"]) for index, (_values, config) in enumerate(chart.raw_series)]
    legend = legend if chart.config.show_legend else []
    chart.config.show_legend = False
    return Chart(key=key, title=title, desc=desc, svg=_svg(chart, key, title, desc), head=head, rows=rows,
                 legend=legend)  # fmt: skip
