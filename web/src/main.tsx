// Entry point: mounts the console into index.html's #app.
import { render } from 'preact';
import { App } from './App';
import './style.css';

render(<App />, document.getElementById('app')!);
