"""The HTTP service (``spimguard serve``): FastAPI routes over one engine and a durable ledger."""

from spimguard.interfaces.http.app import create_app
from spimguard.interfaces.http.service import Service, ServiceConfig

__all__ = ["Service", "ServiceConfig", "create_app"]
