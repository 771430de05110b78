"""Application and audit log rows, and log exports awaiting download.

``user_id`` is a plain column, not a foreign key: the audit trail of a deleted user stays.
An export's content lives in the database (zlib-compressed, base64 text in chunks well under
MariaDB's default ``max_allowed_packet``), so any API process can serve the download. Text, not
a binary column: aiomysql 0.3 cannot send ``bytes`` parameters with PyMySQL 1.2.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class LogEntry(Model):
    id = fields.BigIntField(primary_key=True)
    timestamp = fields.DatetimeField(auto_now_add=True, db_index=True)
    level = fields.CharField(max_length=10, db_index=True)
    module = fields.CharField(max_length=64, db_index=True)
    message = fields.CharField(max_length=1024)
    action = fields.CharField(max_length=64, null=True)
    user_id = fields.IntField(null=True, db_index=True)
    username = fields.CharField(max_length=64, null=True)
    ip_address = fields.CharField(max_length=64, null=True)
    user_agent = fields.CharField(max_length=255, null=True)
    method = fields.CharField(max_length=8, null=True)
    path = fields.CharField(max_length=255, null=True)
    status_code = fields.IntField(null=True)
    node_id = fields.CharField(max_length=64, null=True)
    details = fields.JSONField(null=True)
    stack_trace = fields.TextField(null=True)

    class Meta:
        table = "core_logs"


class LogExport(Model):
    name = fields.CharField(max_length=96, primary_key=True)
    user_id = fields.IntField()
    format = fields.CharField(max_length=8)
    file_size = fields.BigIntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "core_log_exports"


class LogExportChunk(Model):
    id = fields.BigIntField(primary_key=True)
    export = fields.ForeignKeyField("core.LogExport", related_name="chunks", on_delete=fields.CASCADE)
    seq = fields.IntField()
    data = fields.TextField()  # base64 of a zlib stream slice

    class Meta:
        table = "core_log_export_chunks"
        unique_together = (("export", "seq"),)
