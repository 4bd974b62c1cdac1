// test/integration/kafka/rebalance.test.ts on the Confluent client (kafka.client: confluent).
import '../../../support/use-confluent-client';
import '../rebalance.test';
