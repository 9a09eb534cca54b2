"""A producing team evolving GraphTransaction through the registry: what it may and may not register."""
import copy, json, os
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema
from confluent_kafka.schema_registry.error import SchemaRegistryError
from common import BROKERS, TOPIC, entity, registry, serializer

subject = f"{TOPIC}-value"
current = json.loads(registry.get_latest_version(subject).schema.schema_str)


def attempt(name, schema):
    try:
        schema_id = registry.register_schema(subject, Schema(json.dumps(schema), "AVRO"))
        print(json.dumps({"case": name, "accepted": True, "id": schema_id}))
    except SchemaRegistryError as error:
        print(json.dumps({"case": name, "accepted": False, "status": error.http_status_code, "message": error.error_message}))


def instructions(schema):
    return next(f for f in schema["fields"] if f["name"] == "instructions")["type"]["items"]


new_branch = copy.deepcopy(current)
instructions(new_branch).append({"type": "record", "name": "Upsert", "fields": [{"name": "uid", "type": "string"}]})
attempt("new instruction", new_branch)

no_tx_id = copy.deepcopy(current)
no_tx_id["fields"] = [f for f in no_tx_id["fields"] if f["name"] != "txId"]
attempt("without txId", no_tx_id)

own_field = copy.deepcopy(current)
own_field["fields"].append({"name": "producer", "type": "string", "default": "unknown", "doc": "The producing service; graphfold ignores it."})
attempt("a field of the producer's own", own_field)

serialize = serializer()  # now the evolved version: the registry's latest
graph = os.environ["GRAPH"]
producer = Producer({"bootstrap.servers": BROKERS, "partitioner": "murmur2_random", "enable.idempotence": True})
tx = entity(graph, "evolved", "eve", "Person")
tx["producer"] = "billing-service"
producer.produce(TOPIC, key=graph.encode(), value=serialize(tx))
producer.flush(30)
print(json.dumps({"case": "sent with the evolved schema", "txId": "evolved"}))
