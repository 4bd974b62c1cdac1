// test/integration/kafka/topic-settings.test.ts on the Confluent client (kafka.client: confluent).
import '../../../support/use-confluent-client';
import '../topic-settings.test';
