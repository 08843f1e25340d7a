"""API resource: overdue alerts addressed to the caller."""
from __future__ import annotations

from marshmallow import Schema

from engine import alerts
from web.api.base import NOT_YOURS, Bool, Int, List, Moment, Nested, Query, Str, _runtime, endpoint, login


class AlertQuerySchema(Query):
    unacknowledged = Bool(load_default=False, metadata={"description": "Hanya yang belum dibaca"})


class AlertSchema(Schema):
    id = Int()
    level = Int()
    recipient = Str()
    step = Int()
    step_name = Str(allow_none=True)
    task_id = Str()
    instance_id = Int()
    title = Str()
    bidang = Str()
    created_at = Moment()
    sent_at = Moment()
    cancelled_at = Moment()
    acknowledged_at = Moment()


class AlertListSchema(Schema):
    alerts = List(Nested(AlertSchema))


# -- endpoints: alerts ---------------------------------------------------------------------------

@endpoint("GET", "/alerts", "Peringatan keterlambatan yang ditujukan kepada saya", query=AlertQuerySchema,
          response=AlertListSchema, errors=(422,))
def list_alerts(query):
    return {"alerts": alerts.alerts(_runtime(), login(), unacknowledged=query["unacknowledged"])}


@endpoint("POST", "/alerts/<int:alert_id>/ack", "Tandai peringatan sudah dibaca", response=AlertSchema,
          errors=NOT_YOURS)
def acknowledge_alert(alert_id):
    return alerts.acknowledge(_runtime(), alert_id, login())


