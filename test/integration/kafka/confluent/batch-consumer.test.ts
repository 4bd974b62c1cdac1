// test/integration/kafka/batch-consumer.test.ts on the Confluent client (kafka.client: confluent).
import '../../../support/use-confluent-client';
import '../batch-consumer.test';
