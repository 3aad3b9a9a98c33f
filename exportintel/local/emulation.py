"""The local emulation: a moto server on 127.0.0.1 standing in for the platform's AWS services.

Same code, other endpoint: business code creates its clients with plain `boto3.client(name)`
and reaches the emulation through `AWS_ENDPOINT_URL` (`environ()`); only this package names
the endpoint, to provision resources and to run what moto does not (`pump`).

- `LocalEmulation`: a `ThreadedMotoServer` in this process, for tests and for the detached
  server (`exportintel.local.server`). moto keeps its data in module globals, so one process
  holds one emulated account: `stop()` clears it, and a `mock_aws` in the same process would
  clear it too. Tests that mix both use the detached server.
- `EmulatedAws`: a handle on a running endpoint (clients with fake credentials, resource names,
  provisioning and inventory), whichever process serves it.
"""

from __future__ import annotations

import logging
import urllib.request
from pathlib import Path
from typing import Any

from exportintel.local import provision as provisioning
from exportintel.local.state import load_or_create_key, state_dir
from exportintel.resources import Resources
from exportintel.settings import LOCAL, EnvironmentSettings

# Services the platform uses on the emulation (moto serves them all from one endpoint).
SERVICES = ("s3", "kinesis", "firehose", "glue", "dynamodb", "secretsmanager", "kms")
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def environ(endpoint_url: str, region: str = LOCAL.region) -> dict[str, str]:
    """Environment variables that point boto3 (and awswrangler) at the emulation."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        **FAKE_CREDENTIALS,
        "AWS_DEFAULT_REGION": region,
        # Offline, the instance-metadata lookup only waits for a timeout.
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class EmulatedAws:
    """A running emulation endpoint seen from one environment's settings."""

    def __init__(self, endpoint_url: str, settings: EnvironmentSettings = LOCAL) -> None:
        self.endpoint_url = endpoint_url
        self.settings = settings
        self._clients: dict[str, Any] = {}
        self._session: Any = None

    @property
    def resources(self) -> Resources:
        return Resources.local(self.settings)

    def environ(self) -> dict[str, str]:
        return environ(self.endpoint_url, self.settings.region)

    def _boto3_session(self) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.session.Session(
                aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
                region_name=self.settings.region,
            )
        return self._session

    def client(self, service: str) -> Any:
        """A boto3 client for the emulation, with fake credentials whatever the environment."""
        if service not in self._clients:
            from botocore.config import Config

            self._clients[service] = self._boto3_session().client(
                service,
                endpoint_url=self.endpoint_url,
                config=Config(retries={"mode": "standard", "max_attempts": 3}),
            )
        return self._clients[service]

    def resource(self, service: str) -> Any:
        """A boto3 resource (DynamoDB tables) for the emulation."""
        return self._boto3_session().resource(service, endpoint_url=self.endpoint_url)

    def provision(self, key: bytes) -> provisioning.Inventory:
        return provisioning.provision(self.client, self.settings, key)

    def inventory(self) -> provisioning.Inventory:
        return provisioning.inventory(self.client, self.settings)

    def pseudonymisation_secret(self) -> str:
        return provisioning.pseudonymisation_secret_name(self.settings)

    def reset(self) -> None:
        """Forget every emulated resource and object (moto's reset endpoint)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


class LocalEmulation:
    """A moto server in this process, provisioned for `settings` on `start()`."""

    def __init__(
        self,
        settings: EnvironmentSettings = LOCAL,
        *,
        state: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.settings = settings
        self.state_dir = state if state is not None else state_dir()
        self._host = host
        self._port = port
        self._server: Any = None
        self._aws: EmulatedAws | None = None

    def start(self, *, provision: bool = True) -> LocalEmulation:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as error:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "the local emulation needs moto[server] (pip install 'moto[server]==5.2.5')"
            ) from error
        from exportintel.local import moto_speedups

        moto_speedups.apply()
        # One line per request is noise in tests and in the server log.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=self._host, port=self._port, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self._aws = EmulatedAws(f"http://{host}:{port}", self.settings)
        if provision:
            self.provision()
        return self

    def provision(self) -> provisioning.Inventory:
        return self.aws.provision(self.key)

    @property
    def key(self) -> bytes:
        """The persisted pseudonymisation key (created in the state folder on first use)."""
        return load_or_create_key(self.state_dir)

    def stop(self, *, reset: bool = True) -> None:
        """Stop serving; with `reset`, forget the emulated data as a stopped process would."""
        if self._server is None:
            return
        if reset and self._aws is not None:
            self._aws.reset()
        self._server.stop()
        self._server = None
        self._aws = None

    @property
    def aws(self) -> EmulatedAws:
        if self._aws is None:
            raise RuntimeError("the emulation is not started")
        return self._aws

    @property
    def endpoint_url(self) -> str:
        return self.aws.endpoint_url

    @property
    def resources(self) -> Resources:
        return Resources.local(self.settings)

    def environ(self) -> dict[str, str]:
        return self.aws.environ()

    def client(self, service: str) -> Any:
        return self.aws.client(service)

    def __enter__(self) -> LocalEmulation:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
