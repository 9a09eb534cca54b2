"""A transactional producer that aborts one transaction and commits the next."""
import json, os
from confluent_kafka import Producer
from common import BROKERS, TOPIC, entity, serializer

serialize = serializer()
graph = os.environ["GRAPH"]
producer = Producer({"bootstrap.servers": BROKERS, "partitioner": "murmur2_random", "transactional.id": os.environ["TRANSACTIONAL_ID"]})
producer.init_transactions()
producer.begin_transaction()
producer.produce(TOPIC, key=graph.encode(), value=serialize(entity(graph, "aborted", "ghost", "Person")))
producer.flush(30)
producer.abort_transaction()
producer.begin_transaction()
producer.produce(TOPIC, key=graph.encode(), value=serialize(entity(graph, "after-abort", "real", "Person")))
producer.commit_transaction()
print(json.dumps({"aborted": "aborted", "committed": "after-abort"}))
