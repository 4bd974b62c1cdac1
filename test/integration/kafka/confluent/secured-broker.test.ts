// test/integration/kafka/secured-broker.test.ts on the Confluent client (kafka.client: confluent):
// its producers and consumers (the app-process tests run only in the kafkajs run: they are on kafkajs either way).
import '../../../support/use-confluent-client';
import '../secured-broker.test';
