"""What the interop drivers share: the registry, a serializer of the registered GraphTransaction."""
import os
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

TOPIC = os.environ["TOPIC"]
BROKERS = os.environ["KAFKA_BROKERS"]
registry = SchemaRegistryClient({"url": os.environ["SCHEMA_REGISTRY_URL"]})


def serializer():
    schema = registry.get_latest_version(f"{TOPIC}-value").schema
    serialize = AvroSerializer(registry, schema.schema_str, conf={"auto.register.schemas": False, "use.latest.version": True})
    return lambda tx: serialize(tx, SerializationContext(TOPIC, MessageField.VALUE))


def entity(graph, tx_id, name, type_):
    return {"graph": graph, "txId": tx_id, "instructions": [("graphfold.CreateEntity", {"ref": name, "type": type_})]}
