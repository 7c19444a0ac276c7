import './base.css';
import './devicecode.css';
