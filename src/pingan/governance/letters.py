"""Letters to the petitioner, rendered from templates with the dates they owe.

Each letter states the dates that bind the office or the petitioner (handle
by, ask for a review by...), taken from the case's clocks, as calendar days
in the city's zone. The rendered HTML and those dates are stored with the
case, so what was sent can be shown again exactly.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.governance.petitions_models import PetitionLetter

_BASE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ subject }}</title>
<style>body{font-family:serif;max-width:42em;margin:2em auto;line-height:1.7}
.no{text-align:right}.sig{text-align:right;margin-top:3em}.en{color:#555;font-size:.9em}</style>
</head><body>
<h1>{{ subject }}</h1>
<p class="no">编号 No. {{ number }}</p>
<p>{{ addressee }}：</p>
{% block body %}{% endblock %}
<p class="sig">{{ office }}<br>{{ issued | cn_date }}</p>
</body></html>
"""

_TEMPLATES = {
    "base.html": _BASE,
    "registered.html": """{% extends "base.html" %}{% block body %}
<p>您于{{ received | cn_date }}通过{{ channel_zh }}提出的信访事项已登记。我们将于
<strong>{{ register_by | cn_date }}</strong>前转送、交办有权处理的机关，并告知您。</p>
<p>您可凭编号和查询码查询办理进展。</p>
<p class="en">Your matter received on {{ received }} is registered; it will be forwarded to the
body that handles it by {{ register_by }}. Follow it with this number and your query code.</p>
{% endblock %}""",
    "accepted.html": """{% extends "base.html" %}{% block body %}
<p>您的信访事项已于{{ accepted | cn_date }}受理，由{{ handler }}办理。依照《信访工作条例》，
应于<strong>{{ handle_by | cn_date }}</strong>前办结并书面答复。</p>
<p class="en">Your matter was accepted on {{ accepted }} and is handled by {{ handler }}; the
written reply is due by {{ handle_by }}.</p>
{% endblock %}""",
    "not_accepted.html": """{% extends "base.html" %}{% block body %}
<p>经审查，您的信访事项不予受理。理由：{{ reason }}</p>
<p class="en">Your matter is not accepted. Reason: {{ reason }}</p>
{% endblock %}""",
    "extended.html": """{% extends "base.html" %}{% block body %}
<p>因{{ reason }}，您的信访事项办理期限延长{{ days }}日，
延长后的办结期限为<strong>{{ handle_by | cn_date }}</strong>
（原期限{{ previous_by | cn_date }}）。</p>
<p class="en">Handling is extended by {{ days }} days because: {{ reason }}. The reply is now due
by {{ handle_by }} (was {{ previous_by }}).</p>
{% endblock %}""",
    "reply.html": """{% extends "base.html" %}{% block body %}
<p>关于您反映的问题，处理意见如下：</p><blockquote>{{ opinion }}</blockquote>
<p>如对处理意见不服，可自收到本意见书之日起30日内、即<strong>{{ review_by | cn_date }}</strong>前，
请求{{ review_body }}复查。</p>
<p class="en">Handling opinion above. If you disagree, you may ask {{ review_body }} for a review
by {{ review_by }}.</p>
{% endblock %}""",
    "review.html": """{% extends "base.html" %}{% block body %}
<p>经复查，意见如下：</p><blockquote>{{ opinion }}</blockquote>
<p>如对复查意见不服，可自收到本意见书之日起30日内、
即<strong>{{ rereview_by | cn_date }}</strong>前，
请求{{ review_body }}复核。</p>
<p class="en">Review opinion above. You may ask {{ review_body }} for a re-review by
{{ rereview_by }}.</p>
{% endblock %}""",
    "rereview.html": """{% extends "base.html" %}{% block body %}
<p>经复核，意见如下：</p><blockquote>{{ opinion }}</blockquote>
<p>复核意见为最终意见。信访人仍以同一事实和理由提出信访的，不再受理。</p>
<p class="en">Re-review opinion above; it is final. The same facts and reasons will not be
accepted again.</p>
{% endblock %}""",
}

SUBJECTS = {
    "registered": "信访事项登记告知书",
    "accepted": "信访事项受理告知书",
    "not_accepted": "信访事项不予受理告知书",
    "extended": "信访事项延期办理告知书",
    "reply": "信访事项处理意见书",
    "review": "信访事项复查意见书",
    "rereview": "信访事项复核意见书",
}
CHANNELS_ZH = {"visit": "来访", "letter": "来信", "phone": "电话", "web": "网上信访",
               "video": "视频接访"}  # fmt: skip


def _cn_date(value: object) -> str:
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value)


_env = Environment(
    loader=DictLoader(_TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
)
_env.filters["cn_date"] = _cn_date


def last_day(due: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The last day a deadline leaves, as the city's calendar reads it."""
    return (due - dt.timedelta(microseconds=1)).astimezone(zone).date()


def issue(
    session: Session,
    *,
    case_id: int,
    kind: str,
    number: str,
    addressee: str,
    office: str,
    issued: dt.datetime,
    zone: ZoneInfo,
    dates: dict[str, dt.date],
    **context: object,
) -> PetitionLetter:
    """Render and store one letter; ``dates`` are the deadlines it states."""
    subject = SUBJECTS[kind]
    html = _env.get_template(f"{kind}.html").render(
        subject=subject,
        number=number,
        addressee=addressee,
        office=office,
        issued=issued.astimezone(zone).date(),
        **dates,
        **context,
    )
    letter = PetitionLetter(
        case_id=case_id,
        kind=kind,
        issued_at=issued,
        subject=subject,
        html=html,
        dates=json.dumps({k: v.isoformat() for k, v in dates.items()}),
    )
    session.add(letter)
    session.flush()
    return letter


def letters_of(session: Session, case_id: int) -> list[PetitionLetter]:
    return list(
        session.scalars(
            select(PetitionLetter)
            .where(PetitionLetter.case_id == case_id)
            .order_by(PetitionLetter.id)
        )
    )
