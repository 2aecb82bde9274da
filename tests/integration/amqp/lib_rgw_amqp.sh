# Shared by the Ceph RGW -> RabbitMQ tests; sourced after tests/cli/lib.sh, in $TMP, with the
# Ceph and broker environments (with-ceph-env.sh, with-amqp-env.sh). Not a test itself.
: "${SLUICE_AMQP_URL:?run through with-amqp-env.sh}" "${S3_ENDPOINT:?run through with-ceph-env.sh}"
RMQ="$SLUICE_SOURCE_DIR/scripts/services/rabbitmq.sh"
aws_() { aws --endpoint-url "$S3_ENDPOINT" "$@"; }

# rgw_amqp_bucket NAME PERSISTENT: a fresh bucket whose ObjectCreated notifications RGW pushes to
# the test broker (AMQP endpoint, exchange amq.topic, routing key = the topic's name, ack level
# broker; PERSISTENT "true" or "false" for the topic). Sets id, bucket, topic, arn, prefix (of the
# job queues) and events_queue (the amqp source's queue), all unique to this run.
rgw_amqp_bucket() {
  id="$1-$$-$RANDOM"
  bucket=$id topic="t-$id" prefix="jobs-$id" events_queue="events-$id"
  aws_ s3api create-bucket --bucket "$bucket" >/dev/null || fail "create-bucket $bucket"
  arn=$(aws_ sns create-topic --name "$topic" --query TopicArn --output text --attributes \
    "{\"push-endpoint\":\"amqp://127.0.0.1:$SLUICE_RABBITMQ_PORT\",\"amqp-exchange\":\"amq.topic\",\"amqp-ack-level\":\"broker\",\"persistent\":\"$2\"}") \
    || fail "sns create-topic"
  aws_ s3api put-bucket-notification-configuration --bucket "$bucket" --notification-configuration \
    "{\"TopicConfigurations\":[{\"Id\":\"created\",\"TopicArn\":\"$arn\",\"Events\":[\"s3:ObjectCreated:*\"]}]}" \
    || fail "put-bucket-notification-configuration"
}

# rgw_amqp_cleanup: empties and deletes the bucket, and deletes the topic.
rgw_amqp_cleanup() {
  aws_ s3 rm --only-show-errors --recursive "s3://$bucket" || true
  aws_ s3api delete-bucket --bucket "$bucket" || true
  aws_ sns delete-topic --topic-arn "$arn" || true
}

# rgw_amqp_config FILE: writes the part of a pipeline config both tests share: the amqp:// job
# queue, the bucket as store `incoming`, a folder store `lake`, and the `amqp` source `rgw` reading
# the bucket's notifications. The test appends its tables and routes.
rgw_amqp_config() {
  cat >"$1" <<TOML
[queue]
url = "$SLUICE_AMQP_URL?queue=$prefix"

[engine]
idle_poll = "20ms"
shutdown_grace = "5s"

[stores.incoming]
url = "s3://$bucket"
endpoint = "$S3_ENDPOINT"

[stores.lake]
url = "file://lake"

[[sources]]
name = "rgw"
type = "amqp"
store = "incoming"
url = "$SLUICE_AMQP_URL"
queue = "$events_queue"
exchange = "amq.topic"
routing_key = "$topic"
TOML
}
