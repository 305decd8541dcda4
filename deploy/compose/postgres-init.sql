-- One database per service (services never read each other's tables), all owned by the
-- compose superuser. Runs once, when the PostgreSQL volume is first initialised.
CREATE DATABASE vanthu_registry;
CREATE DATABASE vanthu_routing;
CREATE DATABASE vanthu_signing;
CREATE DATABASE vanthu_interop;
CREATE DATABASE vanthu_analytics;
