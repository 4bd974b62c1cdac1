// test/integration/kafka/consumer-start-retry.test.ts on the Confluent client (kafka.client: confluent).
import '../../../support/use-confluent-client';
import '../consumer-start-retry.test';
