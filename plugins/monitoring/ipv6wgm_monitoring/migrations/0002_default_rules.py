"""Built-in alert rules, created once: an operator may disable, change or delete them, and a
deleted one stays deleted (they are not re-created at start-up)."""

from tortoise import migrations
from tortoise.migrations import operations as ops

DEFAULT_RULES = [
    {"id": "disk_almost_full", "name": "Disk almost full", "metric_name": "system.disk.usage",
     "comparison": ">", "threshold": 90.0, "level": "error", "for_seconds": 300, "cooldown_minutes": 30,
     "description": "The data directory's filesystem is more than 90 % full"},
    {"id": "wireguard_server_down", "name": "WireGuard server down", "metric_name": "wireguard.running",
     "comparison": "<", "threshold": 1.0, "level": "error", "for_seconds": 60, "cooldown_minutes": 10,
     "description": "A WireGuard server's interface is not running"},
    {"id": "bgp_session_down", "name": "BGP session not established", "metric_name": "bgp.session.established",
     "comparison": "<", "threshold": 1.0, "level": "warning", "for_seconds": 120, "cooldown_minutes": 10,
     "description": "A BGP session has not been established for two minutes"},
    {"id": "ipv6_pool_high", "name": "IPv6 pool over 90 %", "metric_name": "ipv6.pool.utilization",
     "comparison": ">", "threshold": 90.0, "level": "warning", "for_seconds": 0, "cooldown_minutes": 60,
     "description": "An IPv6 prefix pool has less than 10 % of its prefixes left"},
]


async def create_defaults(apps, schema_editor):
    rule = apps.get_model("monitoring", "AlertRule")
    for fields in DEFAULT_RULES:
        if not await rule.filter(id=fields["id"]).using_db(schema_editor.client).exists():
            await rule.create(**fields, builtin=True, enabled=True, tags={}, using_db=schema_editor.client)


async def remove_defaults(apps, schema_editor):
    rule = apps.get_model("monitoring", "AlertRule")
    await rule.filter(id__in=[r["id"] for r in DEFAULT_RULES], builtin=True).using_db(schema_editor.client).delete()


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]

    operations = [
        ops.RunPython(create_defaults, remove_defaults),
    ]
