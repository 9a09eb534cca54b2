"""A producer that forgot `partitioner=murmur2_random`: librdkafka's default (CRC32) places the key."""
import json, os
from confluent_kafka import Producer
from common import BROKERS, TOPIC, entity, serializer

serialize = serializer()
graph, tx_id = os.environ["GRAPH"], os.environ["TXID"]
producer = Producer({"bootstrap.servers": BROKERS, "enable.idempotence": True})
landed = []
producer.produce(TOPIC, key=graph.encode(), value=serialize(entity(graph, tx_id, "x", "Person")), on_delivery=lambda err, msg: landed.append(msg.partition()))
producer.flush(30)
print(json.dumps({"partition": landed[0]}))
