export { CoreModule } from './core.module';
export { KafkaCoreService } from './kafka-core.service';
export { runApp, EXIT_CONFIG, EXIT_STARTUP } from './bootstrap';
export { APP_CONTEXT } from './tokens';
export type { AppContext } from './app-context';
