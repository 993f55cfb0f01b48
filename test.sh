#!/usr/bin/env bash
# Runs every test: unit, integration on a real PostgreSQL (started by the tests themselves), federation
# between several Fellows instances and a Fedify peer on loopback. Needs the .NET SDK, PostgreSQL server
# binaries and Node.js; npm packages are installed by the tests on first use.
set -euo pipefail
cd "$(dirname "$0")"
dotnet build Fediverse.sln -c Release -nologo -v q
dotnet test Fediverse.sln -c Release --no-build -nologo "$@"
