#!/bin/sh
# Stands in for starting the product with the settings just imported.
echo "post-failover: starting the product"
mkdir -p "${DROVER_HOST_ROOT:-}/var/log"
echo "post" >> "${DROVER_HOST_ROOT:-}/var/log/failover.log"
