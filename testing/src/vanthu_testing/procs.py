"""Process launchers for real local infrastructure, importable from one place.

Used by the pytest plugin, the benchmarks and the embedded launcher (`vanthu up`).
"""

from vanthu_testing._process import InfrastructureError, reserve_free_ports
from vanthu_testing.nats_server import ExternalNatsServer, NatsServer
from vanthu_testing.postgres import PostgresDatabase, PrivatePostgresCluster
from vanthu_testing.seaweed import SeaweedS3
from vanthu_testing.softhsm import SoftHSMToken, find_softhsm_module

__all__ = [
    "ExternalNatsServer",
    "InfrastructureError",
    "NatsServer",
    "PostgresDatabase",
    "PrivatePostgresCluster",
    "SeaweedS3",
    "SoftHSMToken",
    "find_softhsm_module",
    "reserve_free_ports",
]
