"""Needs the CA certificates (to set up TLS) and the zone database (to show local times)."""
import datetime
import ssl
import zoneinfo

context = ssl.create_default_context()
print("CA certificates loaded:", len(context.get_ca_certs()) > 100)
noon = datetime.datetime(2024, 7, 1, 12, 0, tzinfo=datetime.timezone.utc)
for zone in ("Europe/Berlin", "America/New_York", "Asia/Tokyo"):
    print(zone, noon.astimezone(zoneinfo.ZoneInfo(zone)).isoformat())
