"""moto in server mode on loopback, plus the PrivateLink endpoint-connection calls moto lacks.

Enclave's AWS provider talks to this through the real AWS SDK for Rust. moto implements
endpoint service configurations, their permissions and VPC endpoints; it does not implement
DescribeVpcEndpointConnections, AcceptVpcEndpointConnections or
RejectVpcEndpointConnections. They are added here on moto's own models: a VPC endpoint
(in any account) created against one of a service's names is a connection to it, starting
`pendingAcceptance` when the service requires acceptance. Answers go through moto's
serializer, which shapes them by botocore's EC2 service model (the same model the SDK is
generated from), so a response that does not fit the model does not reach the SDK.

A small harness sits in front, for tests only (paths under /_enclave/):
  POST /_enclave/endpoints   {"account", "region", "service_name"} creates a customer's VPC
                             and interface endpoint, refused (403) unless the service's
                             allowed principals admit the account, as AWS does
  POST /_enclave/faults      {"action", "count", "code", "status"}: the next `count` calls
                             of `action` fail with that error (throttling, 5xx)
  POST /_enclave/state       {"region", "vpc_endpoint_id", "state"} moves a connection
                             (expired, failed) as AWS would on its own
  GET  /_enclave/calls       how many times each action was called (faulted ones included)

Usage: aws_mock.py --ready-file PATH [--regions us-east-1,us-east-2] [--services 2]
Writes {"endpoint_url", "catalog", "loose_services"} to the ready file once serving; runs
until stdin closes (the test that started it went away) or it is killed.
"""

import argparse
import io
import json
import os
import sys
import threading
import uuid
from urllib.parse import parse_qs

import boto3
from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import ec2_backends
from moto.ec2.responses import EC2Response
from moto.moto_server.werkzeug_app import MotoRequestHandler
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

PLATFORM_ACCOUNT = "123456789012"
STATES = {"pendingAcceptance", "pending", "available", "deleting", "deleted",
          "rejected", "failed", "expired"}

_lock = threading.Lock()
# (region, vpc endpoint id) -> connection state; absent = never seen (starts per service).
_connections: dict[tuple[str, str], str] = {}
# action -> [remaining, code, status]
_faults: dict[str, list] = {}
_calls: dict[str, int] = {}


def _service_named(owner_backend, service_name):
    for config in owner_backend.configurations.values():
        if config.service_name == service_name:
            return config
    return None


def _connections_of(owner_backend):
    """Every endpoint in any account of the owner's region connected to one of its services."""
    region = owner_backend.region_name
    found = []
    for account_id in list(ec2_backends.keys()):
        backend = ec2_backends[account_id][region]
        for endpoint in list(backend.vpc_end_points.values()):
            config = _service_named(owner_backend, endpoint.service_name)
            if config is None:
                continue
            key = (region, endpoint.id)
            with _lock:
                state = _connections.setdefault(
                    key, "pendingAcceptance" if config.acceptance_required else "available")
                if state == "pending":
                    # AWS finishes an acceptance shortly after it is asked.
                    _connections[key] = "available"
            found.append((config, endpoint, account_id, state))
    return found


def _connection_shape(config, endpoint, account_id, state):
    return {
        "ServiceId": config.id,
        "VpcEndpointId": endpoint.id,
        "VpcEndpointOwner": account_id,
        "VpcEndpointState": state,
        "CreationTimestamp": endpoint.creation_timestamp,
        "DnsEntries": endpoint.dns_entries or [],
        "NetworkLoadBalancerArns": list(config.network_load_balancer_arns),
        "GatewayLoadBalancerArns": [],
        "IpAddressType": "ipv4",
        "VpcEndpointConnectionId": "vpce-con-" + endpoint.id.removeprefix("vpce-"),
        "VpcEndpointRegion": owner_backend_region(config),
    }


def owner_backend_region(config):
    return config.ec2_backend.region_name


def describe_vpc_endpoint_connections(self):
    filters = {f["Name"]: f.get("Values", []) for f in self._get_param("Filters", [])}
    items = []
    for config, endpoint, account_id, state in _connections_of(self.ec2_backend):
        if "service-id" in filters and config.id not in filters["service-id"]:
            continue
        if "vpc-endpoint-id" in filters and endpoint.id not in filters["vpc-endpoint-id"]:
            continue
        if "vpc-endpoint-owner" in filters and account_id not in filters["vpc-endpoint-owner"]:
            continue
        if "vpc-endpoint-state" in filters and state not in filters["vpc-endpoint-state"]:
            continue
        items.append(_connection_shape(config, endpoint, account_id, state))
    return ActionResult({"VpcEndpointConnections": items})


def _decide(self, to_state):
    service_id = self._get_param("ServiceId")
    endpoint_ids = self._get_param("VpcEndpointIds", [])
    config = self.ec2_backend.configurations.get(service_id)
    if config is None:
        raise EC2ClientError("InvalidVpcEndpointServiceId.NotFound",
                             f"The VpcEndpointService Id '{service_id}' does not exist")
    connected = {e.id: state for c, e, _, state in _connections_of(self.ec2_backend)
                 if c.id == service_id}
    unsuccessful = []
    for endpoint_id in endpoint_ids:
        state = connected.get(endpoint_id)
        allowed_from = {"pendingAcceptance"} if to_state == "pending" else {
            "pendingAcceptance", "pending", "available"}
        if state is None:
            unsuccessful.append({"ResourceId": endpoint_id, "Error": {
                "Code": "InvalidVpcEndpoint.NotFound",
                "Message": f"The Vpc Endpoint Id '{endpoint_id}' does not exist"}})
        elif state not in allowed_from:
            unsuccessful.append({"ResourceId": endpoint_id, "Error": {
                "Code": "InvalidState",
                "Message": f"Endpoint {endpoint_id} is in state {state}"}})
        else:
            with _lock:
                _connections[(self.ec2_backend.region_name, endpoint_id)] = to_state
    return ActionResult({"Unsuccessful": unsuccessful})


def accept_vpc_endpoint_connections(self):
    return _decide(self, "pending")


def reject_vpc_endpoint_connections(self):
    return _decide(self, "rejected")


EC2Response.describe_vpc_endpoint_connections = describe_vpc_endpoint_connections
EC2Response.accept_vpc_endpoint_connections = accept_vpc_endpoint_connections
EC2Response.reject_vpc_endpoint_connections = reject_vpc_endpoint_connections


def _error_xml(code, message):
    return (f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code>'
            f'<Message>{message}</Message></Error></Errors>'
            f'<RequestID>{uuid.uuid4()}</RequestID></Response>').encode()


def _json(start_response, status, body):
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data)))])
    return [data]


class Harness:
    """Counts calls, injects faults, and serves the test-only control paths."""

    def __init__(self, app, endpoint_url):
        self.app = app
        self.endpoint_url = endpoint_url

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_enclave/"):
            try:
                return self.control(environ, start_response, path, body)
            except Exception as e:  # a test asked for something impossible: say what
                return _json(start_response, "400 Bad Request", {"error": str(e)})
        action = parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
        with _lock:
            _calls[action] = _calls.get(action, 0) + 1
            fault = _faults.get(action)
            if fault and fault[0] > 0:
                fault[0] -= 1
                code, status = fault[1], fault[2]
            else:
                fault = None
        if fault:
            data = _error_xml(code, "injected by the test harness")
            start_response(status, [("Content-Type", "text/xml"),
                                    ("Content-Length", str(len(data)))])
            return [data]
        return self.app(environ, start_response)

    def control(self, environ, start_response, path, body):
        request = json.loads(body or b"{}")
        if path == "/_enclave/calls":
            with _lock:
                return _json(start_response, "200 OK", dict(_calls))
        if path == "/_enclave/faults":
            with _lock:
                _faults[request["action"]] = [int(request.get("count", 1)),
                                              request.get("code", "RequestLimitExceeded"),
                                              request.get("status", "503 Service Unavailable")]
            return _json(start_response, "200 OK", {})
        if path == "/_enclave/state":
            if request["state"] not in STATES:
                raise ValueError(f"unknown state {request['state']}")
            with _lock:
                _connections[(request["region"], request["vpc_endpoint_id"])] = request["state"]
            return _json(start_response, "200 OK", {})
        if path == "/_enclave/endpoints":
            account, region = request["account"], request["region"]
            owner = ec2_backends[PLATFORM_ACCOUNT][region]
            config = _service_named(owner, request["service_name"])
            if config is not None and account != PLATFORM_ACCOUNT \
                    and f"arn:aws:iam::{account}:root" not in config.principals:
                return _json(start_response, "403 Forbidden", {
                    "error": f"account {account} is not an allowed principal of {config.id}"})
            backend = ec2_backends[account][region]
            vpc = backend.create_vpc("10.20.0.0/16")
            endpoint = backend.create_vpc_endpoint(
                vpc_id=vpc.id, service_name=request["service_name"], endpoint_type="Interface",
                policy_document=None, route_table_ids=[], subnet_ids=[])
            return _json(start_response, "200 OK", {"vpc_endpoint_id": endpoint.id})
        return _json(start_response, "404 Not Found", {"error": f"no such path {path}"})


def seed(endpoint_url, regions, per_region):
    """The platform's endpoint services: per region, `per_region` requiring acceptance and
    one that does not (for the catalog check). Returns (catalog, loose services)."""
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    catalog, loose = [], {}
    for region in regions:
        ec2 = session.client("ec2", region_name=region, endpoint_url=endpoint_url)
        elb = session.client("elbv2", region_name=region, endpoint_url=endpoint_url)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                                   AvailabilityZone=f"{region}a")["Subnet"]["SubnetId"]
        names = []
        for i in range(per_region + 1):
            lb = elb.create_load_balancer(Name=f"cell-{i}", Subnets=[subnet],
                                          Type="network", Scheme="internal")
            arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
            service = ec2.create_vpc_endpoint_service_configuration(
                NetworkLoadBalancerArns=[arn], AcceptanceRequired=i < per_region,
            )["ServiceConfiguration"]
            if i < per_region:
                names.append(service["ServiceName"])
            else:
                loose[region] = service["ServiceName"]
        catalog.append({
            "id": f"aws-{region}", "cloud": "aws", "display_name": f"Test {region}",
            "private_networking": True, "service_names": names,
        })
    return {"regions": catalog}, loose


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--regions", default="us-east-1,us-east-2")
    parser.add_argument("--services", type=int, default=2)
    args = parser.parse_args()

    server = make_server("127.0.0.1", 0, None, threaded=True,
                         request_handler=MotoRequestHandler)
    endpoint_url = f"http://127.0.0.1:{server.server_port}"
    server.app = Harness(DomainDispatcherApplication(create_backend_app), endpoint_url)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    catalog, loose = seed(endpoint_url, args.regions.split(","), args.services)
    with open(args.ready_file + ".tmp", "w") as f:
        json.dump({"endpoint_url": endpoint_url, "catalog": catalog,
                   "loose_services": loose}, f)
    os.replace(args.ready_file + ".tmp", args.ready_file)
    # Runs until the test that started it closes our stdin (or exits).
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
