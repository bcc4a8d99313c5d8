#!/bin/sh
# Stands in for stopping fs2's own services before it takes over fs1's role.
echo "pre-failover: taking over for $2"
mkdir -p "${DROVER_HOST_ROOT:-}/var/log"
echo "pre $*" >> "${DROVER_HOST_ROOT:-}/var/log/failover.log"
