// test/integration/kafka/dead-letter-hold.test.ts on the Confluent client (kafka.client: confluent).
import '../../../support/use-confluent-client';
import '../dead-letter-hold.test';
