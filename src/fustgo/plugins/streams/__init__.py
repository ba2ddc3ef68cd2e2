"""Message streams (Kafka, RabbitMQ, NATS, MQTT, Redis, HTTP): formats, batching, acks."""
