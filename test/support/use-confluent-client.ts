// Imported first by test/integration/kafka/confluent/*: the libs/kafka integration tests imported
// after it run on the Confluent client (testKafkaConnection fails when it is not installed).
process.env['KAFKA_TEST_CLIENT'] = 'confluent';
