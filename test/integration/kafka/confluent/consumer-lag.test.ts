// test/integration/kafka/consumer-lag.test.ts on the Confluent client (kafka.client: confluent).
import '../../../support/use-confluent-client';
import '../consumer-lag.test';
