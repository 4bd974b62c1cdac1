// test/integration/kafka/secured-broker.test.ts on the Confluent client (kafka.client: confluent):
// its producers and consumers; the app processes and sync-ctl it starts run on kafkajs.
import '../../../support/use-confluent-client';
import '../secured-broker.test';
