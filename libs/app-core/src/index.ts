export { CoreModule } from './core.module';
export { KafkaCoreService } from './kafka-core.service';
export { runApp, startupSummary, EXIT_CONFIG, EXIT_STARTUP } from './bootstrap';
export { EXIT_KAFKA_ACCESS } from './exit-codes';
export { APP_CONTEXT } from './tokens';
export type { AppContext } from './app-context';
export { ControlWatcher } from './control-watcher.service';
export { authoriseAdmin } from './admin.guard';
export { applyHeapFlags, heapFlags } from './heap-tuning';
